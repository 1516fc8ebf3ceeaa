"""``pool|volume|controller|port|disk list``: the inventory found by syncs."""

from delfin_like.cli import common


class _InventoryLister(common.Lister):
    """A resource list with --storage (and the paging flags of every list)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--storage", help="storage id")
        return parser

    def filters(self, parsed_args):
        return {"storage_id": parsed_args.storage}


class ListPools(_InventoryLister):
    """List storage pools."""

    path, key = "/v1/storage-pools", "storage_pools"
    columns = ("id", "storage_id", "native_storage_pool_id", "name", "status", "storage_type", "total_capacity",
               "used_capacity", "free_capacity", "subscribed_capacity", "description", "created_at", "updated_at")
    default_columns = ("id", "name", "native_storage_pool_id", "status", "storage_type", "total_capacity",
                       "used_capacity", "free_capacity")


class ListVolumes(_InventoryLister):
    """List volumes (--pool takes the native pool id, as volumes name it)."""

    path, key = "/v1/volumes", "volumes"
    columns = ("id", "storage_id", "native_volume_id", "native_storage_pool_id", "name", "status", "type", "wwn",
               "total_capacity", "used_capacity", "free_capacity", "compressed", "deduplicated", "description",
               "created_at", "updated_at")
    default_columns = ("id", "name", "native_volume_id", "native_storage_pool_id", "status", "type",
                       "total_capacity", "used_capacity", "free_capacity")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--pool", help="native storage pool id (native_storage_pool_id)")
        return parser

    def filters(self, parsed_args):
        return {**super().filters(parsed_args), "native_storage_pool_id": parsed_args.pool}


class ListControllers(_InventoryLister):
    """List controllers."""

    path, key = "/v1/controllers", "controllers"
    columns = ("id", "storage_id", "native_controller_id", "name", "status", "location", "soft_version", "cpu_info",
               "cpu_count", "memory_size", "mgmt_ip", "created_at", "updated_at")
    default_columns = ("id", "name", "native_controller_id", "status", "soft_version", "cpu_count", "memory_size",
                       "mgmt_ip")


class ListPorts(_InventoryLister):
    """List ports (speeds as rates, e.g. 32 Gbit/s; in bits per second with --no-human and machine formats)."""

    path, key = "/v1/ports", "ports"
    rate_fields = frozenset({"speed", "max_speed"})
    columns = ("id", "storage_id", "native_port_id", "name", "location", "connection_status", "health_status",
               "type", "logical_type", "speed", "max_speed", "native_parent_id", "wwn", "mac_address", "ipv4",
               "ipv4_mask", "ipv6", "ipv6_mask", "created_at", "updated_at")
    default_columns = ("id", "name", "native_port_id", "type", "connection_status", "health_status", "speed",
                       "native_parent_id")


class ListDisks(_InventoryLister):
    """List disks."""

    path, key = "/v1/disks", "disks"
    columns = ("id", "storage_id", "native_disk_id", "name", "physical_type", "logical_type", "status", "location",
               "capacity", "firmware", "manufacturer", "model", "serial_number", "speed", "health_score",
               "native_disk_group_id", "created_at", "updated_at")
    default_columns = ("id", "name", "native_disk_id", "physical_type", "logical_type", "status", "capacity",
                       "model")
