"""Casework: the Django apps that run collection and recovery per NPL household.

Reads the analytics lists (which households have NPL loans), writes only through services
named ``<entity>_<action>``. Nothing here imports the web layer.
"""
