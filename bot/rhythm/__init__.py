"""The crisis rhythm: late updates noticed (the guard), outages seen early (the detector)."""
