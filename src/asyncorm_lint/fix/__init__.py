"""The autofix: rewrite sync ORM calls in async code to their async forms, where equivalent.

``asyncorm-lint fix`` (:mod:`.command`) and ``python -m libcst.tool codemod``
(:class:`.codemod.AsyncOrmCodemod`) run the same LibCST codemod, driven by the linter's
findings: rules decide where and what (:mod:`asyncorm_lint.fixes`), fixers
(:mod:`.fixers`, one per rewrite) do the editing.
"""
