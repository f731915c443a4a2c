"""Rasa custom actions: thin adapters between the dialogue and the plain-Python domain in ``bot``.

One module per concern: ``forms`` (the questionnaire form), ``results`` (the
recommendation), ``knowledge`` (doors and levels), ``conversation`` (fallback).
"""
