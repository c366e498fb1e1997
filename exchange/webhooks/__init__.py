"""Webhooks: partner systems told by a signed HTTP POST when practices are published, updated or withdrawn.

``hooks`` is what administrators and publishing call (manage webhooks; announce a practice's change by
queueing a delivery to each webhook that wants it, in the publishing transaction); ``delivery`` is the
job that sends one (retried with backoff by the job runner) and keeps the log of every attempt;
``addresses`` refuses targets inside the server's own networks; ``signing`` signs a body and checks a
signature.
"""
