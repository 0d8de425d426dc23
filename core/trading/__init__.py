"""Trading: the paper broker, the portfolio and the live engine loop."""
