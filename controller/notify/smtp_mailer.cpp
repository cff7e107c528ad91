#include "controller/notify/smtp_mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "controller/notify/message_format.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::notify {

namespace {

// The message text libcurl reads as the DATA of the transaction.
struct upload {
  const std::string* data = nullptr;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* source = static_cast<upload*>(user);
  std::size_t n = std::min(size * count, source->data->size() - source->offset);
  std::copy_n(source->data->data() + source->offset, n, buffer);
  source->offset += n;
  return n;
}

struct curl_deleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

struct slist_deleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::string curl_url(const smtp_settings& s) {
  std::string host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
  std::string scheme = s.security == smtp_security::implicit ? "smtps" : "smtp";
  return scheme + "://" + host + ":" + std::to_string(s.port) + "/" + s.ehlo_name;
}

// Sets one option, turning a refusal (an option this libcurl lacks) into a mail_error.
template <class T>
void set(CURL* handle, CURLoption option, T value) {
  if (curl_easy_setopt(handle, option, value) != CURLE_OK) {
    throw mail_error("libcurl refused an SMTP option");
  }
}

}  // namespace

smtp_mailer::smtp_mailer(smtp_settings settings, std::shared_ptr<const clock> clk)
    : settings_(std::move(settings)), clock_(std::move(clk)) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void smtp_mailer::send(const email_message& message) {
  email_message prepared = message;
  if (prepared.message_id.empty()) {
    prepared.message_id = random_hex(16);
  }
  std::string text = format_message(prepared, settings_.from_name, settings_.from_address, clock_->now());

  std::unique_ptr<CURL, curl_deleter> handle(curl_easy_init());
  if (!handle) {
    throw mail_error("libcurl could not create a handle");
  }
  CURL* h = handle.get();
  std::string url = curl_url(settings_);
  std::string mail_from = "<" + settings_.from_address + ">";
  std::unique_ptr<curl_slist, slist_deleter> recipients(curl_slist_append(nullptr, ("<" + prepared.to + ">").c_str()));
  upload source{&text, 0};
  char error_buffer[CURL_ERROR_SIZE] = {};

  set(h, CURLOPT_URL, url.c_str());
  set(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  set(h, CURLOPT_NOSIGNAL, 1L);
  set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
  set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
  set(h, CURLOPT_ERRORBUFFER, error_buffer);
  set(h, CURLOPT_USE_SSL,
      settings_.security == smtp_security::none ? static_cast<long>(CURLUSESSL_NONE)
                                                : static_cast<long>(CURLUSESSL_ALL));
  set(h, CURLOPT_SSL_VERIFYPEER, 1L);
  set(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) {
    set(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
  }
  if (!settings_.user.empty()) {
    set(h, CURLOPT_USERNAME, settings_.user.c_str());
    set(h, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  set(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  set(h, CURLOPT_MAIL_RCPT, recipients.get());
  set(h, CURLOPT_READFUNCTION, &read_upload);
  set(h, CURLOPT_READDATA, &source);
  set(h, CURLOPT_UPLOAD, 1L);

  CURLcode result = curl_easy_perform(h);
  if (result != CURLE_OK) {
    long response = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response);
    std::string reason = "SMTP " + settings_.redacted() + ": " + curl_easy_strerror(result);
    if (error_buffer[0] != '\0') {
      reason += " (" + std::string(error_buffer) + ")";
    }
    if (response != 0) {
      reason += ", server replied " + std::to_string(response);
    }
    throw mail_error(reason);
  }
}

}  // namespace derpmgr::controller::notify
