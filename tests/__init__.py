"""Tests for the reactions bot."""
