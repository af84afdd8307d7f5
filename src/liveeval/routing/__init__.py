"""Routing: choose an arm (model, prompt version, parameters) per request by the rewards
that production outcomes earn, with guardrails, and replay a policy on logged decisions.

The core is pure: `learn` turns outcomes into posteriors and a `Snapshot` of action
probabilities per slice; `choose` draws from a snapshot in-process; `replay` estimates a
candidate policy's reward from logged decisions; `insights` compares recent rewards with
a baseline. The store, the server and the SDK wire these in.
"""
