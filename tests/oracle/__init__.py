"""Pacemaker as the oracle: generated CIBs, crm_simulate helpers, comparisons with hakeeper.

cibxml.py renders a small CIB model to XML (benchmarks/cibgen.py uses it too);
strategies.py draws random small clusters with hypothesis; crm.py runs crm_simulate and
crm_verify and reads transition summaries; scenarios/ holds TripleO CIBs made by
scenarios/make_scenarios.py.
"""
