"""Cases: the list with its filters, one case with everything done on it, and every action."""
