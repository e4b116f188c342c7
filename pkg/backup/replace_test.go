package backup

import (
	"strings"
	"testing"
)

func TestReplacerValue(t *testing.T) {
	t.Parallel()
	r := NewReplacer("old.example.test", "a-much-longer.example.test", "wp_")
	cases := map[string]struct{ in, want string }{
		"plain text": {"see https://old.example.test/shop", "see https://a-much-longer.example.test/shop"},
		"JSON-escaped": {`{"url":"https:\/\/old.example.test\/x"}`,
			`{"url":"https:\/\/a-much-longer.example.test\/x"}`},
		"serialized string": {`s:28:"https://old.example.test/abc";`, `s:38:"https://a-much-longer.example.test/abc";`},
		"serialized array": {`a:2:{s:3:"url";s:24:"http://old.example.test/";i:5;b:1;}`,
			`a:2:{s:3:"url";s:34:"http://a-much-longer.example.test/";i:5;b:1;}`},
		"serialized object": {`O:8:"stdClass":1:{s:4:"home";s:23:"http://old.example.test";}`,
			`O:8:"stdClass":1:{s:4:"home";s:33:"http://a-much-longer.example.test";}`},
		"serialized inside serialized": {`s:31:"s:23:"http://old.example.test";";`, `s:41:"s:33:"http://a-much-longer.example.test";";`},
		"multibyte text keeps byte lengths": {`s:29:"café http://old.example.test";`,
			`s:39:"café http://a-much-longer.example.test";`},
		"custom-serialized object is left alone":     {`C:3:"Foo":23:{http://old.example.test}`, `C:3:"Foo":23:{http://old.example.test}`},
		"broken serialized data is replaced as text": {`s:99:"http://old.example.test";`, `s:99:"http://a-much-longer.example.test";`},
		"another host is untouched":                  {"http://older.example.test.org", "http://older.example.test.org"},
		"no address":                                 {"a:1:{i:0;d:1.5;}", "a:1:{i:0;d:1.5;}"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := r.Value(c.in); got != c.want {
				t.Errorf("Value(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestReplacerLine(t *testing.T) {
	t.Parallel()
	r := NewReplacer("old.example.test", "shop.example.test", "wp_")
	cases := map[string]struct{ in, want string }{
		"guid keeps the old address": {
			"INSERT INTO `wp_posts` (`ID`, `post_content`, `guid`) VALUES (1,'at http://old.example.test','http://old.example.test/?p=1'),(2,'x, y','http://old.example.test/?p=2');\n",
			"INSERT INTO `wp_posts` (`ID`, `post_content`, `guid`) VALUES (1,'at http://shop.example.test','http://old.example.test/?p=1'),(2,'x, y','http://old.example.test/?p=2');\n",
		},
		"escapes survive": {
			"INSERT INTO `wp_options` (`option_id`, `option_name`, `option_value`) VALUES (1,'x','it\\'s\\nhttp://old.example.test \\\\ \\\"q\\\"');\n",
			"INSERT INTO `wp_options` (`option_id`, `option_name`, `option_value`) VALUES (1,'x','it\\'s\\nhttp://shop.example.test \\\\ \\\"q\\\"');\n",
		},
		"serialized lengths count the unescaped bytes": {
			"INSERT INTO `wp_options` (`option_id`, `option_value`) VALUES (1,'a:1:{i:0;s:28:\\\"it\\'s http://old.example.test\\\";}');\n",
			"INSERT INTO `wp_options` (`option_id`, `option_value`) VALUES (1,'a:1:{i:0;s:29:\\\"it\\'s http://shop.example.test\\\";}');\n",
		},
		"other tables are untouched": {
			"INSERT INTO `other_t` (`a`) VALUES ('http://old.example.test');\n",
			"INSERT INTO `other_t` (`a`) VALUES ('http://old.example.test');\n",
		},
		"NULL and numbers pass": {
			"INSERT INTO `wp_postmeta` (`meta_id`, `meta_value`) VALUES (1,NULL),(2,0x687474703A2F2F),(3,'http://old.example.test');\n",
			"INSERT INTO `wp_postmeta` (`meta_id`, `meta_value`) VALUES (1,NULL),(2,0x687474703A2F2F),(3,'http://shop.example.test');\n",
		},
		"statements other than inserts": {"DROP TABLE IF EXISTS `wp_posts`;\n", "DROP TABLE IF EXISTS `wp_posts`;\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Line(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("Line\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestReplacerRowsOnTheirOwnLines(t *testing.T) {
	t.Parallel()
	r := NewReplacer("old.example.test", "shop.example.test", "wp_")
	in := []string{
		"INSERT INTO `wp_posts` (`ID`, `post_content`, `guid`) VALUES (1,'at http://old.example.test','http://old.example.test/?p=1'),\n",
		"(2,'a; b http://old.example.test','http://old.example.test/?p=2');\n",
		"(3,'not a row of the insert http://old.example.test');\n",
		"INSERT INTO `other` (`a`) VALUES ('http://old.example.test'),\n",
		"('http://old.example.test');\n",
	}
	want := []string{
		"INSERT INTO `wp_posts` (`ID`, `post_content`, `guid`) VALUES (1,'at http://shop.example.test','http://old.example.test/?p=1'),\n",
		"(2,'a; b http://shop.example.test','http://old.example.test/?p=2');\n",
		"(3,'not a row of the insert http://old.example.test');\n",
		"INSERT INTO `other` (`a`) VALUES ('http://old.example.test'),\n",
		"('http://old.example.test');\n",
	}
	for i, line := range in {
		got, err := r.Line(line)
		if err != nil {
			t.Fatal(err)
		}
		if got != want[i] {
			t.Errorf("line %d\n got %s\nwant %s", i, got, want[i])
		}
	}
}

func TestReplacerNeedsColumnLists(t *testing.T) {
	t.Parallel()
	r := NewReplacer("old.example.test", "new.example.test", "wp_")
	_, err := r.Line("INSERT INTO `wp_posts` VALUES (1,'http://old.example.test');\n")
	if err == nil || !strings.Contains(err.Error(), "--complete-insert") {
		t.Fatalf("err = %v, want a refusal of an insert without columns", err)
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{{"7.1", "7.1.0", 0}, {"10.3.0", "9.9", 1}, {"60421", "60717", -1}, {"11.1.2", "11.1.10", -1}, {"7.2-RC1", "7.1", 1}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
