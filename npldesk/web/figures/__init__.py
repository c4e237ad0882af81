"""Figures for people: the dashboard and the figures pages."""
