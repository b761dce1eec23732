"""Sample third-party plugin: a few passes written only against `workbench.api`."""
