// Package glusterfs re-creates heketi v10.4.0's stored entry types (apps/glusterfs/*_entry.go,
// volume_durability_*.go; heketi-db-spec.md §2.5, §2.8, §2.9).
//
// The package must be named `glusterfs`: gob names registered pointer types by package name, so
// the durability types register as `*glusterfs.VolumeReplicaDurability` etc., exactly the names
// heketi writes into VolumeEntry values.
package glusterfs

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sort"

	"heketioracle/api"
)

// Entry is embedded in NodeEntry and DeviceEntry.
type Entry struct {
	State api.EntryState
}

type ClusterEntry struct {
	Info api.ClusterInfoResponse
}

type NodeEntry struct {
	Entry

	Info    api.NodeInfo
	Devices sort.StringSlice
}

type DeviceEntry struct {
	Entry

	Info       api.DeviceInfo
	Bricks     sort.StringSlice
	NodeId     string
	ExtentSize uint64
}

type PendingItem struct {
	Id string
}

type BrickSubType int

type BrickEntry struct {
	Info             api.BrickInfo
	TpSize           uint64
	PoolMetadataSize uint64
	gidRequested     int64 // unexported in heketi too: never stored
	Pending          PendingItem
	LvmThinPool      string
	LvmLv            string
	SubType          BrickSubType
}

// VolumeDurability is heketi's durability interface (reduced to what the oracle needs).
type VolumeDurability interface {
	BricksInSet() int
}

type VolumeReplicaDurability struct {
	api.ReplicaDurability
}

type VolumeDisperseDurability struct {
	api.DisperseDurability
}

type NoneDurability struct {
	VolumeReplicaDurability
}

func (d *VolumeReplicaDurability) BricksInSet() int  { return d.Replica }
func (d *VolumeDisperseDurability) BricksInSet() int { return d.Data + d.Redundancy }
func (d *NoneDurability) BricksInSet() int           { return 1 }

type VolumeEntry struct {
	Info                 api.VolumeInfo
	Bricks               sort.StringSlice
	Durability           VolumeDurability `json:"-"`
	GlusterVolumeOptions []string
	Pending              PendingItem
}

type BlockVolumeEntry struct {
	Info    api.BlockVolumeInfo
	Pending PendingItem
}

type DbAttributeEntry struct {
	Key   string
	Value string
}

type PendingChangeType int
type PendingOperationType int
type PendingOperationStatus string

type PendingOperationAction struct {
	Change PendingChangeType
	Id     string
	Delta  interface{}
}

type PendingOperation struct {
	PendingItem
	Timestamp int64
	Type      PendingOperationType
	Actions   []PendingOperationAction
}

type PendingOperationEntry struct {
	PendingOperation
	Status PendingOperationStatus
}

// Db is heketi's export document (apps/glusterfs/dbcommon.go, heketi-db-spec.md §3.2).
type Db struct {
	Clusters          map[string]ClusterEntry          `json:"clusterentries"`
	Volumes           map[string]VolumeEntry           `json:"volumeentries"`
	Bricks            map[string]BrickEntry            `json:"brickentries"`
	Nodes             map[string]NodeEntry             `json:"nodeentries"`
	Devices           map[string]DeviceEntry           `json:"deviceentries"`
	BlockVolumes      map[string]BlockVolumeEntry      `json:"blockvolumeentries"`
	DbAttributes      map[string]DbAttributeEntry      `json:"dbattributeentries"`
	PendingOperations map[string]PendingOperationEntry `json:"pendingoperations"`
}

func init() {
	gob.Register(&VolumeReplicaDurability{})
	gob.Register(&VolumeDisperseDurability{})
	gob.Register(&NoneDurability{})
}

// Constructors with heketi's load-time defaults (heketi-db-spec.md §2.8).

func NewClusterEntry() *ClusterEntry {
	e := &ClusterEntry{}
	e.Info.Nodes = make(sort.StringSlice, 0)
	e.Info.Volumes = make(sort.StringSlice, 0)
	e.Info.BlockVolumes = make(sort.StringSlice, 0)
	return e
}

func NewNodeEntry() *NodeEntry {
	e := &NodeEntry{}
	e.State = "online"
	e.Devices = make(sort.StringSlice, 0)
	return e
}

func NewDeviceEntry() *DeviceEntry {
	e := &DeviceEntry{}
	e.State = "online"
	e.ExtentSize = 4096
	e.Bricks = make(sort.StringSlice, 0)
	return e
}

func NewVolumeEntry() *VolumeEntry {
	e := &VolumeEntry{}
	e.Bricks = make(sort.StringSlice, 0)
	return e
}

func NewPendingOperationEntry() *PendingOperationEntry {
	e := &PendingOperationEntry{}
	e.Actions = make([]PendingOperationAction, 0)
	return e
}

// Unmarshal decodes one bolt value the way heketi's entries do (a fresh gob.Decoder per value),
// and additionally insists that the value is exactly one gob stream with nothing left over.
func Unmarshal(value []byte, into interface{}) error {
	r := bytes.NewReader(value)
	if err := gob.NewDecoder(r).Decode(into); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d bytes left after the gob value", r.Len())
	}
	return nil
}

// After-decode fix-ups heketi's Unmarshal methods apply (nil slices become empty).
func (e *ClusterEntry) Fixup() {
	if e.Info.Nodes == nil {
		e.Info.Nodes = make(sort.StringSlice, 0)
	}
	if e.Info.Volumes == nil {
		e.Info.Volumes = make(sort.StringSlice, 0)
	}
	if e.Info.BlockVolumes == nil {
		e.Info.BlockVolumes = make(sort.StringSlice, 0)
	}
}

func (e *NodeEntry) Fixup() {
	if e.Devices == nil {
		e.Devices = make(sort.StringSlice, 0)
	}
}

func (e *DeviceEntry) Fixup() {
	if e.Bricks == nil {
		e.Bricks = make(sort.StringSlice, 0)
	}
}

func (e *VolumeEntry) Fixup() {
	if e.Bricks == nil {
		e.Bricks = make(sort.StringSlice, 0)
	}
}

func (e *PendingOperationEntry) Fixup() {
	if e.Actions == nil {
		e.Actions = make([]PendingOperationAction, 0)
	}
}
