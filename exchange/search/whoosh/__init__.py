"""The embedded search engine: a Whoosh index on disk, queries evaluated over it with numpy.

The only code that imports Whoosh. Whoosh stores the index and its postings; ``evaluation.py`` scores
queries over cached postings arrays with Whoosh's BM25F.
"""
