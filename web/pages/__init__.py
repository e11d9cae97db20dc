"""The web areas, one blueprint module each."""
