module github.com/chiphost/chiphost/testdata/plugins/src/go

go 1.26
