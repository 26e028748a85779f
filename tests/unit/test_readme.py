"""The README is the front door: short, and its numbers generated from the measured table."""

from conftest import REPO

from pipeline.report.readme import BEGIN, END, read_rows, render_table, rewrite_block


def test_readme_is_short_and_its_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    rows = read_rows(REPO / "docs" / "default_study.csv")
    assert {r["relation"] for r in rows} >= {"baseline", "discovered", "blackbox", "floor"}
    block = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == render_table(rows), "rerun: python -m pipeline.report.readme results/mock-demo"


def test_table_rendering_and_block_rewrite():
    rows = [{"target": "M_from_Y", "sample": "SIMBA", "relation": "baseline", "n_halos": "10",
             "n_sims": "2", "scatter_log": "0.2", "scatter_log_lo68": "0.1",
             "scatter_log_hi68": "0.3", "reduction_log": "0", "reduction_log_lo95": "0",
             "reduction_log_hi95": "0", "n_diverged": "0"},
            {"target": "M_from_Y", "sample": "SIMBA", "relation": "discovered", "n_halos": "10",
             "n_sims": "2", "scatter_log": "0.1", "scatter_log_lo68": "nan",
             "scatter_log_hi68": "nan", "reduction_log": "0.5", "reduction_log_lo95": "0.25",
             "reduction_log_hi95": "0.75", "n_diverged": "1"}]
    table = render_table(rows)
    assert "| self-similar | 0.200 dex [0.100, 0.300] | — | 0 |" in table
    assert "| **discovered** | 0.100 dex | 50% [25, 75] | 1 |" in table
    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert rewrite_block(text, table) == f"intro\n{BEGIN}\n{table}\n{END}\noutro\n"


def test_readme_links_point_at_files_that_exist():
    import re

    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)#:]+)\)", readme)
    assert links and all((REPO / link).exists() for link in links), links


def test_configuration_reference_lists_every_key_of_the_schema():
    from pipeline.defaults import config_reference_markdown, config_schema

    text = config_reference_markdown()
    schema = config_schema()

    def paths(node, prefix):
        for key, sub in node.get("properties", {}).items():
            yield prefix + key
            yield from paths(sub, f"{prefix}{key}.")
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict):
                yield from paths(extra, f"{prefix}{key}.<name>.")
            if isinstance(sub.get("items"), dict):
                yield from paths(sub["items"], f"{prefix}{key}[].")

    every = list(paths(schema, ""))
    assert len(every) > 100
    missing = [p for p in every if f"| `{p}` |" not in text]
    assert not missing, missing
    assert '| `sr.keep_slope` | boolean | `true` |' in text
