"""REST handlers served by the same Tornado process as the Panel pages."""
