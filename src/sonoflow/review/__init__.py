"""Review of detections: samples for a person to validate, and what their verdicts give
(calibrated scores, precision at thresholds, call rates). Above detection: it reads what a
`detect` run wrote and never imports a stage that reads it."""
