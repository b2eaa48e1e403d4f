"""Operator tooling for rules: lint (`check`, `check --live`, the admin rules page), rule tests
(`app.py test`) and dry runs (`app.py simulate`)."""
