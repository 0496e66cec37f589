"""The native provider plugin ``pulumi-resource-batchip``: EipBatch and SecondaryIpSet
for every Pulumi language, over the same providers as the Python dynamic resources.

- ``resources.py``: each type token's provider object and what its resource class does;
- ``provider.py``: the ResourceProvider calls, converted to and from those objects;
- ``values.py`` / ``names.py``: the engine's values and camelCase names, both ways;
- ``configuration.py``: the provider's ``batchip:`` settings;
- ``schema.py``: the package schema, from the inputs' declarations;
- ``serve.py``: the process (``python -m pulumi_batchip.native``).
"""
