"""`ruleengine serve`: the HTTP API for hosts in any language, and preview pages for people.

An edge layer, like the CLI: it uses the library's public pieces and nothing in the core imports
it. It needs the `serve` extra (`pip install 'ruleengine[serve]'`); `command.py` is the only
module the CLI touches, and it imports the web stack only when the command runs.
"""
