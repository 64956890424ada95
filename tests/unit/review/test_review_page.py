"""The review page in a real headless browser (Debian's chromium and chromedriver): give
verdicts by keys and buttons, correct a class, reload, export, and read the export back
as verdicts."""

import shutil
import time

import pandas as pd
import pytest
from review_helpers import build, make_detect_run
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from sonoflow.review.verdicts import read_verdicts

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1300,900"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for(check, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {check}")


def test_review_page_keys_buttons_reload_and_export(tmp_path, browser):
    made = make_detect_run(tmp_path / "in")
    sample = build(made, tmp_path)
    page = tmp_path / "review/season/index.html"
    browser.get(page.as_uri())
    progress = browser.find_element(By.ID, "progress")
    assert progress.text == f"0 / {len(sample)} reviewed"
    cards = browser.find_elements(By.CSS_SELECTOR, ".clip")
    assert len(cards) == len(sample)
    image = cards[0].find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 100  # loaded
    audio = cards[0].find_element(By.TAG_NAME, "audio")
    assert audio.get_attribute("src").endswith(f"clips/{sample['id'][0]}.wav")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("y")  # clip 1 yes, then clip 2 is current
    body.send_keys("n")  # clip 2 no
    body.send_keys(Keys.ARROW_DOWN)  # skip clip 3
    body.send_keys("u")  # clip 4 unsure
    body.send_keys(Keys.ARROW_UP, Keys.ARROW_UP)  # back to clip 3
    assert "current" in cards[2].get_attribute("class")
    cards[5].find_element(By.CSS_SELECTOR, "button.no").click()  # clip 6 by button
    cards[6].find_element(By.CSS_SELECTOR, "button.yes").click()
    other = "hum" if sample["class"][7] == "chirp" else "chirp"
    select = cards[7].find_element(By.CSS_SELECTOR, "select.correction")
    select.find_element(By.CSS_SELECTOR, f"option[value='{other}']").click()
    assert progress.text == f"6 / {len(sample)} reviewed"
    assert browser.save_screenshot(str(tmp_path / "page.png"))

    browser.refresh()  # the verdicts are kept in localStorage
    progress = browser.find_element(By.ID, "progress")
    assert progress.text == f"6 / {len(sample)} reviewed"
    cards = browser.find_elements(By.CSS_SELECTOR, ".clip")
    assert "yes" in cards[0].get_attribute("class").split()
    assert "on" in cards[5].find_element(By.CSS_SELECTOR, "button.no").get_attribute("class")

    browser.find_element(By.ID, "export").click()
    exported = wait_for(lambda: next(browser.downloads.glob("sample*.csv"), None))
    time.sleep(0.5)  # the download is renamed into place when it is complete
    table = pd.read_csv(exported, dtype=str, keep_default_na=False)
    written = pd.read_csv(tmp_path / "review/season/sample.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == list(written.columns)
    assert list(table["verdict"][:8]) == ["yes", "no", "", "unsure", "", "no", "yes", ""]
    assert table["corrected_class"][7] == other and (table["corrected_class"][:7] == "").all()
    same = [c for c in written.columns if c not in ("verdict", "corrected_class")]
    pd.testing.assert_frame_equal(table[same], written[same])  # every other value as written

    verdicts = tmp_path / "verdicts"
    verdicts.mkdir()
    shutil.copy(exported, verdicts / "sample.csv")
    got = read_verdicts(verdicts, written, classes=["hum", "chirp"]).table
    assert list(got["verdict"][:8]) == ["yes", "no", "", "unsure", "", "no", "yes", "no"]
    assert got["corrected_class"][7] == other
    assert list(got["correct"][:2]) == [1.0, 0.0]
