"""Jobs: work that must not hold a web request (mail, pack exports, index upkeep), run by the job runner.

``queue`` is the jobs table as a queue (enqueue inside a service's transaction, claim, settle);
``runner`` runs claimed jobs (``exchange worker``); ``kinds`` names every kind of job the library has and
the function that does it; ``embedded`` starts one runner beside ``exchange serve`` and ``exchange run``.
"""
