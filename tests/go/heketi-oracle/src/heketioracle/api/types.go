// Package api re-creates the parts of heketi v10.4.0's pkg/glusterfs/api/types.go that are
// stored in heketi.db (heketi-db-spec.md §2.5). Field names, order, embedding and json tags match
// heketi, so gob decodes heketi's values and encoding/json reproduces `heketi db export`.
//
// The package is named `api` like heketi's so that Go's type strings of the anonymous structs
// (e.g. `Restriction api.BlockRestriction "json:..."`) come out as in heketi.
package api

import "sort"

type EntryState string

type DurabilityType string

type BlockRestriction string

type ClusterFlags struct {
	Block bool `json:"block"`
	File  bool `json:"file"`
}

type ClusterInfoResponse struct {
	Id      string           `json:"id"`
	Nodes   sort.StringSlice `json:"nodes"`
	Volumes sort.StringSlice `json:"volumes"`
	ClusterFlags
	BlockVolumes sort.StringSlice `json:"blockvolumes"`
}

type HostAddresses struct {
	Manage  sort.StringSlice `json:"manage"`
	Storage sort.StringSlice `json:"storage"`
}

type NodeAddRequest struct {
	Zone      int               `json:"zone"`
	Hostnames HostAddresses     `json:"hostnames"`
	ClusterId string            `json:"cluster"`
	Tags      map[string]string `json:"tags,omitempty"`
}

type NodeInfo struct {
	NodeAddRequest
	Id string `json:"id"`
}

type Device struct {
	Name string            `json:"name"`
	Tags map[string]string `json:"tags,omitempty"`
}

type StorageSize struct {
	Total uint64 `json:"total"`
	Free  uint64 `json:"free"`
	Used  uint64 `json:"used"`
}

type DeviceInfo struct {
	Device
	Storage StorageSize `json:"storage"`
	Id      string      `json:"id"`
	Paths   []string    `json:"paths,omitempty"`
	PvUUID  string      `json:"pv_uuid,omitempty"`
}

type BrickInfo struct {
	Id       string `json:"id"`
	Path     string `json:"path"`
	DeviceId string `json:"device"`
	NodeId   string `json:"node"`
	VolumeId string `json:"volume"`
	Size     uint64 `json:"size"`
}

type ReplicaDurability struct {
	Replica int `json:"replica,omitempty"`
}

type DisperseDurability struct {
	Data       int `json:"data,omitempty"`
	Redundancy int `json:"redundancy,omitempty"`
}

type VolumeDurabilityInfo struct {
	Type      DurabilityType     `json:"type,omitempty"`
	Replicate ReplicaDurability  `json:"replicate,omitempty"`
	Disperse  DisperseDurability `json:"disperse,omitempty"`
}

type VolumeCreateRequest struct {
	Size                 int                  `json:"size"`
	Clusters             []string             `json:"clusters,omitempty"`
	Name                 string               `json:"name"`
	Durability           VolumeDurabilityInfo `json:"durability,omitempty"`
	Gid                  int64                `json:"gid,omitempty"`
	GlusterVolumeOptions []string             `json:"glustervolumeoptions,omitempty"`
	Block                bool                 `json:"block,omitempty"`
	Snapshot             struct {
		Enable bool    `json:"enable"`
		Factor float32 `json:"factor"`
	} `json:"snapshot"`
}

type VolumeInfo struct {
	VolumeCreateRequest
	Id      string `json:"id"`
	Cluster string `json:"cluster"`
	Mount   struct {
		GlusterFS struct {
			Hosts      []string          `json:"hosts"`
			MountPoint string            `json:"device"`
			Options    map[string]string `json:"options"`
		} `json:"glusterfs"`
	} `json:"mount"`
	BlockInfo struct {
		FreeSize     int              `json:"freesize,omitempty"`
		ReservedSize int              `json:"reservedsize,omitempty"`
		BlockVolumes sort.StringSlice `json:"blockvolume,omitempty"`
		Restriction  BlockRestriction `json:"restriction,omitempty"`
	} `json:"blockinfo,omitempty"`
}

type BlockVolumeCreateRequest struct {
	Size     int      `json:"size"`
	Clusters []string `json:"clusters,omitempty"`
	Name     string   `json:"name"`
	Hacount  int      `json:"hacount,omitempty"`
	Auth     bool     `json:"auth,omitempty"`
}

type BlockVolumeInfo struct {
	BlockVolumeCreateRequest
	Id          string `json:"id"`
	BlockVolume struct {
		Hosts    []string `json:"hosts"`
		Iqn      string   `json:"iqn"`
		Lun      int      `json:"lun"`
		Username string   `json:"username"`
		Password string   `json:"password"`
	} `json:"blockvolume"`
	Cluster            string `json:"cluster,omitempty"`
	BlockHostingVolume string `json:"blockhostingvolume,omitempty"`
	UsableSize         int    `json:"usablesize,omitempty"`
}
