"""From OTLP bytes to normalized interactions: decoding, convention mapping, assembly."""
