"""Native-async shim: run Django's a-prefixed queryset methods on async database drivers."""
