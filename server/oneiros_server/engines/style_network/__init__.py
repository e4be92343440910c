"""STYLE_NETWORK: feed-forward style networks behind Stylize."""
