;; lines16: a Chipmunk parser written by hand in WAT whose strings are UTF-16, or Latin-1 where
;; every char fits, so that chiphost's utf16 and latin1+utf16 lifting and lowering meet a guest
;; that really reads and writes them. build.sh assembles it twice and embeds the WIT with
;; wit-component: as is with string-encoding=utf16 (compat/utf16_lines), and with $compact set
;; to 1 with string-encoding=latin1+utf16 (compat/latin1_lines). No WASI, no adapter.
;;
;; get-version 1.6.0; one config schema, `prefix` (text, default "»"); render options with two
;; columns. init takes the text of each config item as the prefix (passed through as the host
;; lowered it: UTF-16, or Latin-1 / tagged UTF-16) and logs it at info; a non-text item is
;; err(config("nur Text-Werte ✓")). parse: per line (up to \n, or the whole tail), the item
;; message(columns([prefix, line])) with the line's bytes read as Latin-1 and written in the
;; module's encoding (copied to an address aligned to 2, as both encodings require), consumed =
;; the line and its \n. Memory is a bump allocator; post-return of parse frees what the call
;; took, init's prefix stays.
(module
  (import "chipmunk:shared/logging@0.1.0" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $compact i32 (i32.const 0)) ;; 1 in the latin1+utf16 build
  (global $heap (mut i32) (i32.const 16384))
  (global $keep (mut i32) (i32.const 16384)) ;; the heap top that post-return restores
  (global $prefix_ptr (mut i32) (i32.const 0))
  (global $prefix_len (mut i32) (i32.const 0))

  ;; Static areas: the return area at 512 (16 bytes), the config schema item at 576 (48 bytes),
  ;; the two column-info records at 640 (20 bytes each), the string table at 1024.

  ;; $entry: the address of string $i's (ptr, len) pair for this build's encoding.
  (func $entry (param $i i32) (result i32)
    (i32.add (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 4)))
      (i32.shl (global.get $compact) (i32.const 3))))

  ;; $put_str stores static string $i as a (ptr, len) pair at $addr.
  (func $put_str (param $addr i32) (param $i i32)
    (i64.store (local.get $addr) (i64.load (call $entry (local.get $i)))))

  (func $alloc (param $align i32) (param $size i32) (result i32)
    (local $p i32) (local $end i32) (local $have i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $p) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have))
              (i32.const 65535)) (i32.const 16))) (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $p))

  ;; cabi_realloc: shrinks in place, grows by moving the block to the top of the heap.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $p i32) (local $i i32)
    (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $new_size) (local.get $old_size)))
      (then (return (local.get $old))))
    (local.set $p (call $alloc (local.get $align) (local.get $new_size)))
    (if (i32.ne (local.get $old) (i32.const 0))
      (then
        (block $done
          (loop $copy
            (br_if $done (i32.ge_u (local.get $i) (local.get $old_size)))
            (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.load8_u (i32.add (local.get $old) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy)))))
    (local.get $p))

  (func (export "chipmunk:parser/parser@0.1.0#get-version") (result i32)
    (i32.store16 (i32.const 512) (i32.const 1))
    (i32.store16 (i32.const 514) (i32.const 6))
    (i32.store16 (i32.const 516) (i32.const 0))
    (i32.const 512))

  ;; list<config-schema-item>: one item {id, title, description: some, input-type: text(default)}.
  (func (export "chipmunk:parser/parser@0.1.0#get-config-schemas") (result i32)
    (call $put_str (i32.const 576) (i32.const 0))
    (call $put_str (i32.const 584) (i32.const 1))
    (i32.store8 (i32.const 592) (i32.const 1))
    (call $put_str (i32.const 596) (i32.const 2))
    (i32.store8 (i32.const 604) (i32.const 3))
    (call $put_str (i32.const 608) (i32.const 3))
    (i32.store (i32.const 512) (i32.const 576))
    (i32.store (i32.const 516) (i32.const 1))
    (i32.const 512))

  ;; render-options: some({columns: [prefix 20, line -1], min-width 30, max-width 600}).
  (func (export "chipmunk:parser/parser@0.1.0#get-render-options") (result i32)
    (i32.store8 (i32.const 512) (i32.const 1))
    (i32.store (i32.const 516) (i32.const 640))
    (i32.store (i32.const 520) (i32.const 2))
    (i32.store16 (i32.const 524) (i32.const 30))
    (i32.store16 (i32.const 526) (i32.const 600))
    (call $put_str (i32.const 640) (i32.const 4))
    (call $put_str (i32.const 648) (i32.const 2))
    (i32.store16 (i32.const 656) (i32.const 20))
    (call $put_str (i32.const 660) (i32.const 5))
    (call $put_str (i32.const 668) (i32.const 6))
    (i32.store16 (i32.const 676) (i32.const -1))
    (i32.const 512))

  ;; init(level, items, n) -> result<_, init-error>; config-item is 20 bytes: id at 0,
  ;; value at 8 (case 3 is text, its string at 12).
  (func (export "chipmunk:parser/parser@0.1.0#init") (param $level i32) (param $items i32) (param $n i32) (result i32)
    (local $i i32) (local $item i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $item (i32.add (local.get $items) (i32.mul (local.get $i) (i32.const 20))))
        (if (i32.ne (i32.load8_u offset=8 (local.get $item)) (i32.const 3))
          (then
            (i32.store8 (i32.const 512) (i32.const 1))
            (i32.store8 (i32.const 516) (i32.const 0))
            (call $put_str (i32.const 520) (i32.const 7))
            (return (i32.const 512))))
        (global.set $prefix_ptr (i32.load offset=12 (local.get $item)))
        (global.set $prefix_len (i32.load offset=16 (local.get $item)))
        (call $log (i32.const 2) (global.get $prefix_ptr) (global.get $prefix_len))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $keep (global.get $heap))
    (i32.store8 (i32.const 512) (i32.const 0))
    (i32.const 512))

  ;; $line copies the $n bytes at $src as Latin-1 into a new block aligned to 2, in the build's
  ;; encoding, and stores its (ptr, len) at $dst.
  (func $line (param $dst i32) (param $src i32) (param $n i32)
    (local $p i32) (local $i i32) (local $width i32)
    (local.set $width (i32.sub (i32.const 2) (global.get $compact)))
    (local.set $p (call $alloc (i32.const 2) (i32.mul (local.get $n) (local.get $width))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (global.get $compact)
          (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.load8_u (i32.add (local.get $src) (local.get $i)))))
          (else (i32.store16 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 1)))
            (i32.load8_u (i32.add (local.get $src) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (local.get $dst) (local.get $p))
    (i32.store offset=4 (local.get $dst) (local.get $n)))

  ;; parse(data, len, timestamp) -> result<list<parse-return>, parse-error>; parse-return is
  ;; 96 bytes: option<parse-yield> at 0 (some), parse-yield at 8 (message), parsed-message at
  ;; 16 (columns: list at 20), consumed (u64) at 88.
  (func (export "chipmunk:parser/parser@0.1.0#parse") (param $data i32) (param $len i32) (param $ts_some i32) (param $ts i64) (result i32)
    (local $count i32) (local $i i32) (local $items i32) (local $item i32) (local $cols i32)
    (local $start i32) (local $end i32) (local $consumed i32)
    ;; count the lines: every \n, and a tail without one
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $data) (local.get $i))) (i32.const 10))
          (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.and (i32.ne (local.get $len) (i32.const 0))
          (i32.ne (i32.load8_u (i32.sub (i32.add (local.get $data) (local.get $len)) (i32.const 1))) (i32.const 10)))
      (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (local.set $items (call $alloc (i32.const 8) (i32.mul (local.get $count) (i32.const 96))))
    (local.set $item (local.get $items))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $start) (local.get $len)))
        (local.set $end (local.get $start))
        (block $eol
          (loop $scan
            (br_if $eol (i32.ge_u (local.get $end) (local.get $len)))
            (br_if $eol (i32.eq (i32.load8_u (i32.add (local.get $data) (local.get $end))) (i32.const 10)))
            (local.set $end (i32.add (local.get $end) (i32.const 1)))
            (br $scan)))
        (local.set $consumed (i32.sub (local.get $end) (local.get $start)))
        (if (i32.lt_u (local.get $end) (local.get $len))
          (then (local.set $consumed (i32.add (local.get $consumed) (i32.const 1)))))
        (local.set $cols (call $alloc (i32.const 4) (i32.const 16)))
        (i32.store (local.get $cols) (global.get $prefix_ptr))
        (i32.store offset=4 (local.get $cols) (global.get $prefix_len))
        (call $line (i32.add (local.get $cols) (i32.const 8)) (i32.add (local.get $data) (local.get $start))
          (i32.sub (local.get $end) (local.get $start)))
        (i32.store8 (local.get $item) (i32.const 1))
        (i32.store8 offset=8 (local.get $item) (i32.const 0))
        (i32.store8 offset=16 (local.get $item) (i32.const 1))
        (i32.store offset=20 (local.get $item) (local.get $cols))
        (i32.store offset=24 (local.get $item) (i32.const 2))
        (i64.store offset=88 (local.get $item) (i64.extend_i32_u (local.get $consumed)))
        (local.set $item (i32.add (local.get $item) (i32.const 96)))
        (local.set $start (i32.add (local.get $start) (local.get $consumed)))
        (br $next)))
    (i32.store8 (i32.const 512) (i32.const 0))
    (i32.store (i32.const 516) (local.get $items))
    (i32.store (i32.const 520) (local.get $count))
    (i32.const 512))

  (func (export "cabi_post_chipmunk:parser/parser@0.1.0#parse") (param i32)
    (global.set $heap (global.get $keep)))

  ;; the string table: per string, (ptr, code units) as UTF-16, then (ptr, length) as
  ;; latin1+utf16 (Latin-1 when every char fits, else the UTF-16 copy with the tag bit)
  (data (i32.const 1024) "\80\04\00\00\06\00\00\00\8c\04\00\00\06\00\00\00") ;; 0 S_ID
  (data (i32.const 1040) "\92\04\00\00\09\00\00\00\92\04\00\00\09\00\00\80") ;; 1 S_TITLE
  (data (i32.const 1056) "\a4\04\00\00\16\00\00\00\a4\04\00\00\16\00\00\80") ;; 2 S_DESC
  (data (i32.const 1072) "\d0\04\00\00\01\00\00\00\d2\04\00\00\01\00\00\00") ;; 3 S_DEFAULT
  (data (i32.const 1088) "\d4\04\00\00\06\00\00\00\e0\04\00\00\06\00\00\00") ;; 4 S_CAP1
  (data (i32.const 1104) "\e6\04\00\00\05\00\00\00\f0\04\00\00\05\00\00\00") ;; 5 S_CAP2
  (data (i32.const 1120) "\f6\04\00\00\25\00\00\00\40\05\00\00\25\00\00\00") ;; 6 S_DESC2
  (data (i32.const 1136) "\66\05\00\00\10\00\00\00\66\05\00\00\10\00\00\80") ;; 7 S_ERR
  ;; S_ID: "prefix"
  (data (i32.const 1152) "\70\00\72\00\65\00\66\00\69\00\78\00")
  (data (i32.const 1164) "\70\72\65\66\69\78")
  ;; S_TITLE: "Präfix 😀"
  (data (i32.const 1170) "\50\00\72\00\e4\00\66\00\69\00\78\00\20\00\3d\d8\00\de")
  ;; S_DESC: "Text vor jeder Zeile ✓"
  (data (i32.const 1188) "\54\00\65\00\78\00\74\00\20\00\76\00\6f\00\72\00\20\00\6a\00\65\00\64\00\65\00\72\00\20\00\5a\00\65\00\69\00\6c\00\65\00\20\00\13\27")
  ;; S_DEFAULT: "»"
  (data (i32.const 1232) "\bb\00")
  (data (i32.const 1234) "\bb")
  ;; S_CAP1: "Präfix"
  (data (i32.const 1236) "\50\00\72\00\e4\00\66\00\69\00\78\00")
  (data (i32.const 1248) "\50\72\e4\66\69\78")
  ;; S_CAP2: "Zeile"
  (data (i32.const 1254) "\5a\00\65\00\69\00\6c\00\65\00")
  (data (i32.const 1264) "\5a\65\69\6c\65")
  ;; S_DESC2: "die Eingabezeile, als Latin-1 gelesen"
  (data (i32.const 1270) "\64\00\69\00\65\00\20\00\45\00\69\00\6e\00\67\00\61\00\62\00\65\00\7a\00\65\00\69\00\6c\00\65\00\2c\00\20\00\61\00\6c\00\73\00\20\00\4c\00\61\00\74\00\69\00\6e\00\2d\00\31\00\20\00\67\00\65\00\6c\00\65\00\73\00\65\00\6e\00")
  (data (i32.const 1344) "\64\69\65\20\45\69\6e\67\61\62\65\7a\65\69\6c\65\2c\20\61\6c\73\20\4c\61\74\69\6e\2d\31\20\67\65\6c\65\73\65\6e")
  ;; S_ERR: "nur Text-Werte ✓"
  (data (i32.const 1382) "\6e\00\75\00\72\00\20\00\54\00\65\00\78\00\74\00\2d\00\57\00\65\00\72\00\74\00\65\00\20\00\13\27")
)
