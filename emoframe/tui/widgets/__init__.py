"""Widgets by area: parameter forms, validation panel, confusion heat map."""
