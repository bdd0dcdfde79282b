"""The one reading of a URL's host (mdfs/hosts.py) that collection, coarse, boilerplate, dedup's stats, the
quality page model and the report share."""

import pyarrow as pa

from mdfs.hosts import host, hosts, site

URLS = ["https://WWW.Example.cn./a?b=1", "http://user@news.qq.com:8080/x", "example.com/a", None, "",
        "/relative/path"]


def test_host_and_site_of_one_url():
    assert [host(u) for u in URLS] == ["www.example.cn", "news.qq.com", None, None, None, None]
    assert [site(u) for u in URLS] == ["example.cn", "news.qq.com", None, None, None, None]
    assert host("http://[::1") is None  # urllib refuses it: no host, no exception


def test_sites_of_a_column_agree_and_take_hosts_without_a_scheme():
    expected = ["example.cn", "news.qq.com", "example.com", None, None, None]
    assert hosts(pa.array(URLS, pa.string())).to_pylist() == expected
