"""The home page: where the fundraise stands (funds, lists, largest investors)."""
