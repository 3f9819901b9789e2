"""The expression language: grammar, AST, checker and compiler."""
