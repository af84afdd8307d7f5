"""The flywheel: review queue, golden set, calibration, retention."""
