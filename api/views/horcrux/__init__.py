"""horcrux views: pure functions from daytwo CR dicts to the horcrux API's documented JSON."""
