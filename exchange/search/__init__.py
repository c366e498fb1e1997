"""Search: finding practices in the library.

``whoosh/`` is the embedded engine, the only code that touches Whoosh. Language analysis
(``analysis.py``, ``porter.py``), the glossary and its cross-language expansion (``glossary.py``,
``expansion.py``) and the query language (``query.py``) know no engine.
"""
