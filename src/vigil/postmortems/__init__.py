"""Postmortems, five whys, lessons learned and action items: the learning half of the loop."""
