"""`liveeval demo`: a fictional product's weeks of traffic, played through the real paths.

`story` writes the traffic (pure, seeded), `phrasebook` its words, `simulated_judge` a
judge provider that calls no model and says so, `settings` the demo's settings,
`player` sends the story to a running server in simulated time, and `session` runs the
judge worker, the monitor and the player beside the server.
"""
