"""A plugin module that cannot be imported (a missing dependency): discovery must survive it."""
raise ImportError("wb_sample_plugin.broken needs 'nonexistent_accelerator_sdk', which is not installed")
