"""Solved building blocks of earlier chapters (generated; do not edit)."""
