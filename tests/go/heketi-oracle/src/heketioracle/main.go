// heketi-oracle: an independent check, with the real bolt 1.3.1 and Go's encoding/gob, of
// heketi.db files (heketi-db-spec.md §1.11, §2, §3). Used by tests/tests/go_oracle.rs.
//
//	heketi-oracle check DB        bolt Tx.Check (read-only open) plus key-order/lookup checks
//	heketi-oracle export DB       `heketi db export` re-created: JSON on stdout
//	heketi-oracle registry DB     registry keys (NODE MANAGE*/STORAGE*, DEVICE DEVICE*), one a line
//	heketi-oracle compare A B     decode every entry of both files; report entries that differ
//	                              (reflect.DeepEqual, so also Durability and Delta's Go type)
//	heketi-oracle mutate DB       write to DB with bolt: puts, deletes, bucket create/delete,
//	                              Tx.Check after every transaction; leaves heketi's data unchanged
//
// Exit status: 0 ok, 1 a finding (printed), 2 usage or I/O error.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"time"

	"github.com/boltdb/bolt"

	g "heketioracle/glusterfs"
)

var heketiBuckets = []string{
	"CLUSTER", "NODE", "VOLUME", "DEVICE", "BRICK", "BLOCKVOLUME", "DBATTRIBUTE", "PENDING_OPERATIONS",
}

func isRegistryKey(bucket string, key []byte) bool {
	switch bucket {
	case "NODE":
		return bytes.HasPrefix(key, []byte("MANAGE")) || bytes.HasPrefix(key, []byte("STORAGE"))
	case "DEVICE":
		return bytes.HasPrefix(key, []byte("DEVICE"))
	}
	return false
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "heketi-oracle: "+format+"\n", args...)
	os.Exit(2)
}

func openRO(path string) *bolt.DB {
	db, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		fail("open %s: %v", path, err)
	}
	return db
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: heketi-oracle check|export|registry|mutate DB | compare A B")
	}
	cmd, path := os.Args[1], os.Args[2]
	switch cmd {
	case "check":
		db := openRO(path)
		defer db.Close()
		errs := checkAll(db)
		for _, e := range errs {
			fmt.Println(e)
		}
		if len(errs) > 0 {
			db.Close()
			os.Exit(1)
		}
		fmt.Printf("ok: page size %d, %d pages\n", db.Info().PageSize, pageCount(db))
	case "export":
		db := openRO(path)
		defer db.Close()
		var dump *g.Db
		err := db.View(func(tx *bolt.Tx) error {
			var err error
			dump, err = dumpDb(tx)
			return err
		})
		if err != nil {
			db.Close()
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, err := json.MarshalIndent(dump, "", "    ")
		if err != nil {
			fail("json: %v", err)
		}
		os.Stdout.Write(append(out, '\n'))
	case "registry":
		db := openRO(path)
		defer db.Close()
		err := db.View(func(tx *bolt.Tx) error {
			for _, name := range []string{"NODE", "DEVICE"} {
				b := tx.Bucket([]byte(name))
				if b == nil {
					continue
				}
				b.ForEach(func(k, v []byte) error {
					if isRegistryKey(name, k) {
						fmt.Printf("%s %q %q\n", name, k, v)
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			fail("%v", err)
		}
	case "compare":
		if len(os.Args) != 4 {
			fail("usage: heketi-oracle compare A B")
		}
		os.Exit(compare(path, os.Args[3]))
	case "mutate":
		os.Exit(mutate(path))
	default:
		fail("unknown command %q", cmd)
	}
}

func pageCount(db *bolt.DB) int {
	n := 0
	db.View(func(tx *bolt.Tx) error {
		n = int(tx.Size()) / db.Info().PageSize
		return nil
	})
	return n
}

// checkAll runs bolt's own Tx.Check, then walks every bucket with a cursor: keys strictly
// ascending forwards and backwards, the same count both ways, and Get(key) (a search through the
// branch pages) returning the value the cursor saw. Tx.Check does not look at key order, but
// bolt's searches and later writes depend on it.
func checkAll(db *bolt.DB) []string {
	var errs []string
	err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, "bolt Tx.Check: "+err.Error())
		}
		errs = append(errs, checkBucketOrder(tx.Cursor(), nil, "(root)")...)
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			errs = append(errs, checkBucketOrder(b.Cursor(), b, string(name))...)
			return nil
		})
	})
	if err != nil {
		errs = append(errs, "view: "+err.Error())
	}
	return errs
}

func checkBucketOrder(c *bolt.Cursor, b *bolt.Bucket, name string) []string {
	var errs []string
	var prev []byte
	forward := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			errs = append(errs, fmt.Sprintf("bucket %s: key %q after %q (not ascending)", name, k, prev))
		}
		prev = append(prev[:0:0], k...)
		forward++
		if b != nil {
			if v == nil {
				errs = append(errs, fmt.Sprintf("bucket %s: unexpected nested bucket %q", name, k))
			} else if got := b.Get(k); !bytes.Equal(got, v) {
				errs = append(errs, fmt.Sprintf("bucket %s: Get(%q) does not find the value the cursor saw", name, k))
			}
		}
	}
	backward := 0
	prev = nil
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		if prev != nil && bytes.Compare(k, prev) >= 0 {
			errs = append(errs, fmt.Sprintf("bucket %s: backwards key %q before %q", name, k, prev))
		}
		prev = append(prev[:0:0], k...)
		backward++
	}
	if forward != backward {
		errs = append(errs, fmt.Sprintf("bucket %s: %d keys forwards, %d backwards", name, forward, backward))
	}
	return errs
}

type fixer interface{ Fixup() }

// forEachEntry decodes every non-registry value of bucket into a fresh entry from newEntry.
func forEachEntry(tx *bolt.Tx, bucket string, newEntry func() interface{}, put func(key string, e interface{}) error) error {
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if isRegistryKey(bucket, k) {
			return nil
		}
		if v == nil {
			return fmt.Errorf("%s: key %q is a nested bucket", bucket, k)
		}
		e := newEntry()
		if err := g.Unmarshal(v, e); err != nil {
			return fmt.Errorf("%s %q: gob: %v", bucket, k, err)
		}
		if f, ok := e.(fixer); ok {
			f.Fixup()
		}
		return put(string(k), e)
	})
}

func keyed(bucket, key, id string) error {
	if id == "" {
		return fmt.Errorf("%s %q: entry has an empty id", bucket, key)
	}
	if id != key {
		return fmt.Errorf("%s %q: stored under a key that is not its id %q", bucket, key, id)
	}
	return nil
}

// dumpDb is heketi's DbDump (db_operations.go): every bucket, registry keys skipped, load
// defaults applied, pending operations only when DB_HAS_PENDING_OPS_BUCKET is "yes".
func dumpDb(tx *bolt.Tx) (*g.Db, error) {
	d := &g.Db{
		Clusters:          map[string]g.ClusterEntry{},
		Volumes:           map[string]g.VolumeEntry{},
		Bricks:            map[string]g.BrickEntry{},
		Nodes:             map[string]g.NodeEntry{},
		Devices:           map[string]g.DeviceEntry{},
		BlockVolumes:      map[string]g.BlockVolumeEntry{},
		DbAttributes:      map[string]g.DbAttributeEntry{},
		PendingOperations: map[string]g.PendingOperationEntry{},
	}
	steps := []struct {
		bucket string
		new    func() interface{}
		put    func(k string, e interface{}) error
	}{
		{"CLUSTER", func() interface{} { return g.NewClusterEntry() }, func(k string, e interface{}) error {
			x := e.(*g.ClusterEntry)
			d.Clusters[x.Info.Id] = *x
			return keyed("CLUSTER", k, x.Info.Id)
		}},
		{"VOLUME", func() interface{} { return g.NewVolumeEntry() }, func(k string, e interface{}) error {
			x := e.(*g.VolumeEntry)
			d.Volumes[x.Info.Id] = *x
			return keyed("VOLUME", k, x.Info.Id)
		}},
		{"BRICK", func() interface{} { return &g.BrickEntry{} }, func(k string, e interface{}) error {
			x := e.(*g.BrickEntry)
			d.Bricks[x.Info.Id] = *x
			return keyed("BRICK", k, x.Info.Id)
		}},
		{"NODE", func() interface{} { return g.NewNodeEntry() }, func(k string, e interface{}) error {
			x := e.(*g.NodeEntry)
			d.Nodes[x.Info.Id] = *x
			return keyed("NODE", k, x.Info.Id)
		}},
		{"DEVICE", func() interface{} { return g.NewDeviceEntry() }, func(k string, e interface{}) error {
			x := e.(*g.DeviceEntry)
			d.Devices[x.Info.Id] = *x
			return keyed("DEVICE", k, x.Info.Id)
		}},
		{"BLOCKVOLUME", func() interface{} { return &g.BlockVolumeEntry{} }, func(k string, e interface{}) error {
			x := e.(*g.BlockVolumeEntry)
			d.BlockVolumes[x.Info.Id] = *x
			return keyed("BLOCKVOLUME", k, x.Info.Id)
		}},
		{"DBATTRIBUTE", func() interface{} { return &g.DbAttributeEntry{} }, func(k string, e interface{}) error {
			x := e.(*g.DbAttributeEntry)
			d.DbAttributes[x.Key] = *x
			return keyed("DBATTRIBUTE", k, x.Key)
		}},
	}
	for _, s := range steps {
		if err := forEachEntry(tx, s.bucket, s.new, s.put); err != nil {
			return nil, err
		}
	}
	if a, ok := d.DbAttributes["DB_HAS_PENDING_OPS_BUCKET"]; ok && a.Value == "yes" {
		err := forEachEntry(tx, "PENDING_OPERATIONS", func() interface{} { return g.NewPendingOperationEntry() },
			func(k string, e interface{}) error {
				x := e.(*g.PendingOperationEntry)
				d.PendingOperations[x.Id] = *x
				return keyed("PENDING_OPERATIONS", k, x.Id)
			})
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// allEntries decodes every entry (pending operations regardless of the attribute) keyed
// "BUCKET id".
func allEntries(path string) map[string]interface{} {
	db := openRO(path)
	defer db.Close()
	out := map[string]interface{}{}
	err := db.View(func(tx *bolt.Tx) error {
		news := map[string]func() interface{}{
			"CLUSTER":            func() interface{} { return g.NewClusterEntry() },
			"NODE":               func() interface{} { return g.NewNodeEntry() },
			"VOLUME":             func() interface{} { return g.NewVolumeEntry() },
			"DEVICE":             func() interface{} { return g.NewDeviceEntry() },
			"BRICK":              func() interface{} { return &g.BrickEntry{} },
			"BLOCKVOLUME":        func() interface{} { return &g.BlockVolumeEntry{} },
			"DBATTRIBUTE":        func() interface{} { return &g.DbAttributeEntry{} },
			"PENDING_OPERATIONS": func() interface{} { return g.NewPendingOperationEntry() },
		}
		for _, name := range heketiBuckets {
			name := name
			err := forEachEntry(tx, name, news[name], func(k string, e interface{}) error {
				out[name+" "+k] = e
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail("%s: %v", path, err)
	}
	return out
}

// compare reports every entry that is missing from one file or decodes differently. DeepEqual
// sees what the JSON export cannot: VolumeEntry.Durability (json:"-") and the Go type of
// PendingOperationAction.Delta (int as heketi stores it, versus e.g. float64).
func compare(a, b string) int {
	ea, eb := allEntries(a), allEntries(b)
	var keys []string
	for k := range ea {
		keys = append(keys, k)
	}
	for k := range eb {
		if _, ok := ea[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	diffs := 0
	for _, k := range keys {
		x, okx := ea[k]
		y, oky := eb[k]
		switch {
		case !okx:
			fmt.Printf("only in %s: %s\n", b, k)
		case !oky:
			fmt.Printf("only in %s: %s\n", a, k)
		case !reflect.DeepEqual(normalize(x), normalize(y)):
			fmt.Printf("differs: %s\n  %s: %s\n  %s: %s\n", k, a, show(x), b, show(y))
		default:
			continue
		}
		diffs++
	}
	if diffs > 0 {
		return 1
	}
	fmt.Printf("ok: %d entries decode identically\n", len(keys))
	return 0
}

// normalize returns a copy of e (a pointer to an entry) with every empty map replaced by nil. Heketi stores e.g. a node's Tags as
// an empty map when the node was added without tags (gob sends empty non-nil maps), but the
// export JSON leaves empty `tags` out (omitempty), so no import, heketi's included, can restore
// them; nil and empty maps behave the same in heketi. Everything else must be identical.
func normalize(e interface{}) interface{} {
	v := reflect.New(reflect.TypeOf(e).Elem())
	v.Elem().Set(reflect.ValueOf(e).Elem())
	dropEmptyMaps(v.Elem())
	return v.Interface()
}

func dropEmptyMaps(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				dropEmptyMaps(v.Field(i))
			}
		}
	case reflect.Map:
		if !v.IsNil() && v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			dropEmptyMaps(v.Index(i))
		}
	}
}

func show(e interface{}) string {
	s := fmt.Sprintf("%+v", e)
	if v, ok := e.(*g.VolumeEntry); ok && v.Durability != nil {
		s += fmt.Sprintf(" Durability=%T%+v", v.Durability, v.Durability)
	}
	if p, ok := e.(*g.PendingOperationEntry); ok {
		for _, a := range p.Actions {
			s += fmt.Sprintf(" Delta=%T(%v)", a.Delta, a.Delta)
		}
	}
	return s
}

// mutate writes to the file with bolt itself, in several transactions, checking after each one.
// Heketi's entries are deleted and put back unchanged, so the export afterwards must equal the
// export before.
func mutate(path string) int {
	db, err := bolt.Open(path, 0600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		fail("open %s: %v", path, err)
	}
	defer db.Close()
	rng := rand.New(rand.NewSource(1))
	value := func() []byte {
		n := rng.Intn(600)
		if rng.Intn(20) == 0 {
			n = 2000 + rng.Intn(70000) // overflow pages at either page size
		}
		v := make([]byte, n)
		rng.Read(v)
		return v
	}
	const extra = "HEKETI_ORACLE_EXTRA"
	var added [][2]string // bucket, key
	puts, deletes := 0, 0
	failed := 0
	step := func(what string, fn func(tx *bolt.Tx) error) {
		if err := db.Update(fn); err != nil {
			fail("mutate %s: %v", what, err)
		}
		for _, e := range checkAll(db) {
			fmt.Printf("after %s: %s\n", what, e)
			failed++
		}
	}

	// 1. A new bucket with 1000 keys, and 1000 keys spread over heketi's buckets between the
	//    existing ids (hex keys with a suffix no heketi id has).
	step("puts", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte(extra))
		if err != nil {
			return err
		}
		for i := 0; i < 1000; i++ {
			k := fmt.Sprintf("%032x", rng.Uint64())
			if err := b.Put([]byte(k), value()); err != nil {
				return err
			}
			added = append(added, [2]string{extra, k})
			puts++
		}
		for i := 0; i < 1000; i++ {
			name := heketiBuckets[i%len(heketiBuckets)]
			k := fmt.Sprintf("%016x%016x~oracle", rng.Uint64(), rng.Uint64())
			if err := tx.Bucket([]byte(name)).Put([]byte(k), value()); err != nil {
				return err
			}
			added = append(added, [2]string{name, k})
			puts++
		}
		return nil
	})
	// 2. Delete 1000 of them (every other one).
	step("deletes", func(tx *bolt.Tx) error {
		for i := 0; i < len(added); i += 2 {
			if err := tx.Bucket([]byte(added[i][0])).Delete([]byte(added[i][1])); err != nil {
				return err
			}
			deletes++
		}
		return nil
	})
	// 3. Empty every heketi bucket (our pages get merged and freed by bolt's rebalance) and
	//    4. put the entries back, in another order.
	saved := map[string][][2][]byte{}
	step("empty heketi buckets", func(tx *bolt.Tx) error {
		for _, name := range heketiBuckets {
			b := tx.Bucket([]byte(name))
			var kvs [][2][]byte
			b.ForEach(func(k, v []byte) error {
				kvs = append(kvs, [2][]byte{append([]byte(nil), k...), append([]byte(nil), v...)})
				return nil
			})
			for _, kv := range kvs {
				if err := b.Delete(kv[0]); err != nil {
					return err
				}
				deletes++
			}
			saved[name] = kvs
		}
		return nil
	})
	step("put back", func(tx *bolt.Tx) error {
		for _, name := range heketiBuckets {
			kvs := saved[name]
			b := tx.Bucket([]byte(name))
			for _, i := range rng.Perm(len(kvs)) {
				if err := b.Put(kvs[i][0], kvs[i][1]); err != nil {
					return err
				}
				puts++
			}
		}
		return nil
	})
	// 5. Remove what step 1 added.
	step("cleanup", func(tx *bolt.Tx) error {
		for i := 1; i < len(added); i += 2 {
			if added[i][0] == extra {
				continue
			}
			if err := tx.Bucket([]byte(added[i][0])).Delete([]byte(added[i][1])); err != nil {
				return err
			}
			deletes++
		}
		return tx.DeleteBucket([]byte(extra))
	})
	fmt.Printf("mutate: %d puts, %d deletes, 1 bucket created and deleted, %d problems\n", puts, deletes, failed)
	if failed > 0 {
		return 1
	}
	return 0
}
