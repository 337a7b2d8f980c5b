"""Sintra's shared contract: settings, logging, message schema and the catalog of agents."""
