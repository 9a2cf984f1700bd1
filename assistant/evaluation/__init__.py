"""The evaluation harness, by concern (nothing is imported here, so importing a part is cheap).

- ``datasets``: eval questions, the dataset manifest, paths for reports;
- ``corpora``: the corpus a dataset runs on (generated fixtures, a cached index);
- ``scoring``: systems under test, running them, per-question and per-system metrics;
- ``reporting``: metrics.json, TREC files, report.md, plots, the threshold gate;
- ``runner``: ``run_eval``, which wires them together.

``assistant.evaluate`` re-exports the public names.
"""
