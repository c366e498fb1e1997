"""Harvesting other Practice Exchange nodes over OAI-PMH (``harvests``), reading their responses (``oai``)
and fetching them within bounds (``fetch``)."""
