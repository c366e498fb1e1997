"""The OAI-PMH 2.0 provider: what national repositories and other nodes harvest from this library.

``arguments`` reads a request's arguments (a pure, bounded parser), ``tokens`` signs resumption tokens,
``catalogue`` lists the records a harvester may know of from the catalogue rows, and ``provider``
answers each verb as an XML document. Harvesters are anonymous: only public versions are disseminated,
and a practice that stopped being public is a deleted record.
"""
