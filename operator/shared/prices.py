"""The price table billing estimates use: list prices per hour (VMs) and per GB-month (disks), versioned.

An estimate is only as good as this table, so it is data with an id and a date, and every billing
document names the id it was computed with (``priceTable``). Sources, all on-demand / pay-as-you-go,
Linux, no discounts, no taxes, read on the date below:

- aws: EC2 On-Demand pricing, us-east-1, Linux (https://aws.amazon.com/ec2/pricing/on-demand/);
  EBS pricing, us-east-1 (https://aws.amazon.com/ebs/pricing/).
- azure: Linux Virtual Machines pricing, East US, pay-as-you-go
  (https://azure.microsoft.com/pricing/details/virtual-machines/linux/); Managed Disks pricing, East US,
  per-GB equivalent of the tier prices (https://azure.microsoft.com/pricing/details/managed-disks/).
- gcp: Compute Engine VM instance pricing, us-central1, on-demand
  (https://cloud.google.com/compute/vm-instance-pricing); Disk pricing, us-central1
  (https://cloud.google.com/compute/disks-image-pricing).
- openstack: a private cloud has no list price; notional internal rates per vCPU-hour, per GB of RAM
  per hour and per GB-month of volume, to be read as relative cost, not as an invoice.

Regions are not priced separately (one region's list prices for all). Unknown types are priced by the
documented fallback of their provider (:func:`daytwo.operator.reconcile.billing.vm_hourly`): the size
or vCPU count read from the type name times a per-vCPU rate, else the provider's default type. Networks
(VPCs, VNets, VPC networks) are free on every provider and are not charged.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["PRICE_TABLE", "PRICE_TABLE_ID"]

PRICE_TABLE_ID: Final = "daytwo-list-prices-2026-11-01"

PRICE_TABLE: Final[dict[str, Any]] = {
    "id": PRICE_TABLE_ID,
    "date": "2026-11-01",
    "currency": "USD",
    "aws": {
        "compute_service": "EC2",
        "storage_service": "EBS",
        "vm_hourly": {
            "t2.micro": 0.0116,
            "t2.small": 0.023,
            "t2.medium": 0.0464,
            "t2.large": 0.0928,
            "t3.nano": 0.0052,
            "t3.micro": 0.0104,
            "t3.small": 0.0208,
            "t3.medium": 0.0416,
            "t3.large": 0.0832,
            "t3.xlarge": 0.1664,
            "t3.2xlarge": 0.3328,
            "t4g.micro": 0.0084,
            "t4g.small": 0.0168,
            "t4g.medium": 0.0336,
            "m5.large": 0.096,
            "m5.xlarge": 0.192,
            "m5.2xlarge": 0.384,
            "m5.4xlarge": 0.768,
            "m6i.large": 0.096,
            "m6i.xlarge": 0.192,
            "m6i.2xlarge": 0.384,
            "c5.large": 0.085,
            "c5.xlarge": 0.17,
            "c5.2xlarge": 0.34,
            "r5.large": 0.126,
            "r5.xlarge": 0.252,
            "r5.2xlarge": 0.504,
        },
        # Fallback: the general-purpose price of the same size (t3 below large, m5 from large up).
        "size_hourly": {
            "nano": 0.0052,
            "micro": 0.0104,
            "small": 0.0208,
            "medium": 0.0416,
            "large": 0.096,
            "xlarge": 0.192,
        },
        "per_vcpu_hourly": 0.048,  # <N>xlarge sizes: 4 vCPUs per step, m5 rate
        "default_vm_hourly": 0.096,  # m5.large
        "storage_gb_month": {
            "gp3": 0.08,
            "gp2": 0.10,
            "io1": 0.125,
            "io2": 0.125,
            "st1": 0.045,
            "sc1": 0.015,
            "standard": 0.05,
        },
        "default_storage_gb_month": 0.10,
    },
    "azure": {
        "compute_service": "Virtual Machines",
        "storage_service": "Storage",
        "vm_hourly": {
            "standard_b1s": 0.0104,
            "standard_b1ms": 0.0207,
            "standard_b2s": 0.0416,
            "standard_b2ms": 0.0832,
            "standard_a1_v2": 0.043,
            "standard_ds1_v2": 0.073,
            "standard_ds2_v2": 0.146,
            "standard_d2s_v3": 0.096,
            "standard_d4s_v3": 0.192,
            "standard_d8s_v3": 0.384,
            "standard_d2s_v5": 0.096,
            "standard_d4s_v5": 0.192,
            "standard_d8s_v5": 0.384,
            "standard_e2s_v3": 0.126,
            "standard_e4s_v3": 0.252,
            "standard_f2s_v2": 0.0846,
            "standard_f4s_v2": 0.169,
        },
        "per_vcpu_hourly": 0.048,  # the first number in the size name is its vCPU count (D-series rate)
        "default_vm_hourly": 0.096,  # Standard_D2s_v3
        "storage_gb_month": {
            "premium_lrs": 0.15,
            "premiumv2_lrs": 0.12,
            "standardssd_lrs": 0.075,
            "standard_lrs": 0.045,
            "ultrassd_lrs": 0.12,
        },
        "default_storage_gb_month": 0.075,
    },
    "gcp": {
        "compute_service": "Compute Engine",
        "storage_service": "Persistent Disk",
        "vm_hourly": {
            "f1-micro": 0.0076,
            "g1-small": 0.0257,
            "e2-micro": 0.00838,
            "e2-small": 0.01675,
            "e2-medium": 0.03351,
            "e2-standard-2": 0.06701,
            "e2-standard-4": 0.13402,
            "e2-standard-8": 0.26805,
            "n1-standard-1": 0.0475,
            "n1-standard-2": 0.095,
            "n1-standard-4": 0.19,
            "n2-standard-2": 0.097118,
            "n2-standard-4": 0.194236,
            "n2-standard-8": 0.388472,
        },
        "per_vcpu_hourly": 0.0335,  # <family>-<class>-<vCPUs>: e2-standard per-vCPU rate
        "default_vm_hourly": 0.0475,  # n1-standard-1
        "storage_gb_month": {"pd-standard": 0.04, "pd-balanced": 0.10, "pd-ssd": 0.17, "pd-extreme": 0.125},
        "default_storage_gb_month": 0.10,
    },
    "openstack": {
        "compute_service": "Compute",
        "storage_service": "Block Storage",
        "vm_hourly": {},
        "per_vcpu_hourly": 0.02,
        "per_gb_ram_hourly": 0.005,
        "default_vm_hourly": 0.03,  # 1 vCPU, 2 GB when the flavor's size is unknown
        "storage_gb_month": {},
        "default_storage_gb_month": 0.05,
    },
}
