"""Discovery stage (``rules/discovery.smk``): the assembled halo table -> relations and scores.

Per target (:mod:`.dataset` selects its rows and columns): :mod:`.rank` ranks the features that
explain the deviation from the self-similar relation, :mod:`.sr` writes the top ones as a closed
form, :mod:`.evaluate` measures its scatter on held-out suites against the baseline and (mock) the
noise floor of :mod:`.noise_floor`.
"""
