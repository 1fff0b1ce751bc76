"""Jobs a person or a sensor launches outside the batch run, and the drift schedule."""
