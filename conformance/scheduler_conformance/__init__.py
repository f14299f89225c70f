"""A black-box conformance suite for course scheduler servers: it talks only HTTP to a base
URL and prints a report card, lesson by lesson."""
