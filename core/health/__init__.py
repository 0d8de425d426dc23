"""System and component health."""

from core.health.monitor import HealthMonitor, LoopLagProbe

__all__ = ["HealthMonitor", "LoopLagProbe"]
