"""The store: the bottom layer, below the services.

`db` holds the connection (`Db`, `Location`, `StoreSettings`, reading stored times and the
driver errors as one-line StoreErrors), `open` opens and migrates a store, and `backups`
copies, rotates and dumps it. Nothing here reads the settings file or the environment: the
caller passes a `StoreSettings` (config.store_settings builds it).
"""
