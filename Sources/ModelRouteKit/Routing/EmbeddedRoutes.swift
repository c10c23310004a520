/// The routing table compiled into the binary, used when no routes.json is found.
/// It is byte for byte the repository's routes.json (a test checks); after editing
/// routes.json, paste it here between the delimiters.
public enum EmbeddedRoutes {
    public static let json = #"""
{
  "version": 1,
  "default_route": "mid",
  "baseline_model": "claude-sonnet-4-5",
  "keyword_match": "word",
  "providers": {
    "openai": {"type": "openai", "base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},
    "anthropic": {"type": "anthropic", "base_url": "https://api.anthropic.com/v1", "api_key_env": "ANTHROPIC_API_KEY"},
    "offline": {"type": "mock"}
  },
  "models": {
    "gpt-4.1-nano": {"provider": "openai", "input_per_mtok": 0.10, "output_per_mtok": 0.40, "cached_input_per_mtok": 0.025},
    "gpt-4.1-mini": {"provider": "openai", "input_per_mtok": 0.40, "output_per_mtok": 1.60, "cached_input_per_mtok": 0.10},
    "gpt-4.1": {"provider": "openai", "input_per_mtok": 2.00, "output_per_mtok": 8.00, "cached_input_per_mtok": 0.50},
    "gpt-4o-mini": {"provider": "openai", "input_per_mtok": 0.15, "output_per_mtok": 0.60, "cached_input_per_mtok": 0.075},
    "gpt-4o": {"provider": "openai", "input_per_mtok": 2.50, "output_per_mtok": 10.00, "cached_input_per_mtok": 1.25},
    "claude-haiku-4-5": {"provider": "anthropic", "input_per_mtok": 1.00, "output_per_mtok": 5.00, "cached_input_per_mtok": 0.10},
    "claude-sonnet-4-5": {"provider": "anthropic", "input_per_mtok": 3.00, "output_per_mtok": 15.00, "cached_input_per_mtok": 0.30}
  },
  "routes": {
    "fast": {"model": "gpt-4.1-mini", "fallbacks": ["claude-haiku-4-5"], "max_tokens": 1024},
    "mid": {"model": "gpt-4.1", "fallbacks": ["claude-haiku-4-5"], "max_tokens": 4096},
    "power": {"model": "claude-sonnet-4-5", "fallbacks": ["gpt-4.1"], "max_tokens": 8192}
  },
  "rules": [
    {"name": "free-tier", "route": "fast", "tier": ["free"]},
    {"name": "very-long", "route": "power", "min_tokens": 6000},
    {"name": "deep-work", "route": "power",
     "any": ["security audit", "threat model", "migration plan", "root cause", "formal proof", "prove that", "system design",
             "design a system"]},
    {"name": "hard", "route": "power", "difficulty": {"min": 0.6}},
    {"name": "easy", "route": "fast", "difficulty": {"max": 0.5}}
  ]
}

"""#
}
